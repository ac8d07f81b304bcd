"""Saved models: one file holding everything prediction needs.

A model file is a zip archive with two members and up to two more:

* ``ramancam.json`` — format marker and version (:data:`FORMAT_VERSION`; which versions
  are read how: :mod:`ramancam._bundle_info`), class names, grid, preprocessing recipe
  (``Recipe.to_dict()``), architecture (``CNNConfig.to_dict()``), training settings, library
  versions, a training-data summary and the cross-validation results (``CVResult.to_dict()``);
* ``weights.safetensors`` — the network's state dict in the safetensors format, which holds
  only tensors and cannot execute code when loaded (unlike pickle / ``torch.load``);
* ``novelty.safetensors`` (models with novelty detection) — the arrays of the fitted
  novelty score (:class:`ramancam.novelty.NoveltyScorer`) and, since 2026-12-05, the
  held-out known scores that set the threshold (``held_out``: n x 1, float64; the
  ``novelty_p`` of :meth:`Bundle.novelty_p`); its method, threshold and
  false-alarm rate, and the softmax temperature, are in ``ramancam.json`` (``"novelty"``,
  ``"calibration"``). Files without them load as before (temperature 1, no novelty).
* ``references.safetensors`` (models saved since 2026-12-04) — the mean and standard
  deviation of each class's preprocessed training spectra (``mean``, ``sd``: n_classes x
  n_points), the reference spectra drawn beside a map (:meth:`Bundle.class_reference`),
  and, with the ``hqi`` novelty score, the class index of each of its reference spectra
  (``match_labels``: n_reference x 1), for :meth:`Bundle.library_match`.

:func:`save` writes atomically (an interrupted save leaves the previous file intact).
:func:`load` refuses files that are not ramancam models, files of a newer format version,
settings of the wrong kind (each in one line naming the file), members larger than the
recorded architecture implies or packed far tighter than arrays of numbers pack (checked
before they are unpacked: no zip bomb) and weights that do not fit the architecture (checked
before the network is built).
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._bundle_arrays import (
    FORMAT,
    NOVELTY_NAME,
    REFERENCES_NAME,
    _novelty_state,
    _read_safetensors,
    _references_state,
)
from ._bundle_info import FORMAT_VERSION, JSON_NAME
from ._bundle_members import WEIGHTS_NAME, check_weights, load_arrays, read_members
from ._bundle_range import MAX_END_POINTS, RangeChecks, end_points, median_step, need_spectra
from .errors import RamancamError, out_of_memory
from .provenance import utc_now
from .spectra import Spectra

__all__ = ["FORMAT", "FORMAT_VERSION", "Bundle", "load", "load_info", "save", "training_summary"]


@contextlib.contextmanager
def _atomic_binary(path: Path) -> Iterator[IO[bytes]]:
    """:func:`ramancam.io.atomic_write` ``(path, "wb")``."""
    from .io import atomic_write

    with atomic_write(path, mode="wb") as fh:
        yield fh


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import safetensors
    import scipy
    import sklearn
    import torch

    from . import __version__

    try:  # the defaults of a baseline step's pybaselines parameters are this version's
        pybaselines = version("pybaselines")
    except PackageNotFoundError:  # pragma: no cover - a dependency
        pybaselines = "?"
    from .provenance import with_commit

    return with_commit({"ramancam": __version__, "torch": torch.__version__,
                        "numpy": np.__version__, "scipy": scipy.__version__,
                        "scikit-learn": sklearn.__version__, "pybaselines": pybaselines,
                        "safetensors": safetensors.__version__,
                        "python": platform.python_version()})


def _jsonable(obj: Any) -> Any:
    """Turn numpy scalars/arrays and tuples into plain JSON types; NaN/inf become None."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return _jsonable(obj.item())
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def training_summary(spectra: Spectra, *, source: str | None = None) -> dict[str, Any]:
    """Summary of the training data stored with a model: classes, counts, axis range.

    Parameters
    ----------
    spectra : Spectra
        The (raw or preprocessed) training spectra.
    source : str, optional
        Where they were read from.
    """
    lo, hi = spectra.axis_range()
    out: dict[str, Any] = {"n_spectra": len(spectra), "classes": spectra.classes,
                           "class_counts": spectra.class_counts(),
                           "axis_range": [lo, hi]}
    ends = end_points(spectra)
    out["step"] = median_step(spectra)
    if len(ends) <= MAX_END_POINTS:  # where the paper recipe's straight baseline is anchored
        out["end_points"] = ends
    if source is not None:
        out["source"] = str(source)
    out["sha256"] = data_sha256(spectra)
    return out


def data_sha256(spectra: Spectra) -> str:
    """SHA-256 (hex) of spectra as numbers: every spectrum's axis and intensities (float64,
    little-endian) and the labels, in order. What a model file records of the spectra it was
    trained on (``training_data.sha256``, printed by ``ramancam info``): the same spectra and
    labels in the same order give the same digest whatever the file's name, format or folder,
    so a lab can tell which data made a model. Names of spectra and files, groups and other
    metadata are not part of it; the order is (a folder is read in the order of its sorted
    paths: files renamed to sort otherwise give another digest)."""
    import hashlib

    h = hashlib.sha256()
    if spectra.has_common_axis:
        h.update(np.ascontiguousarray(spectra.wavenumbers, dtype="<f8").tobytes())
        h.update(np.ascontiguousarray(spectra.X, dtype="<f8").tobytes())
    else:
        for axis, y in zip(spectra.axes, spectra.intensities, strict=True):
            h.update(np.ascontiguousarray(axis, dtype="<f8").tobytes())
            h.update(np.ascontiguousarray(y, dtype="<f8").tobytes())
    labels = spectra.labels
    h.update("\0".join("" if v is None else str(v)
                       for v in ([] if labels is None else list(labels))).encode("utf-8"))
    return h.hexdigest()


def _module_of(estimator: Any) -> Any:
    from torch import nn

    from .model import RamanCNN

    module = getattr(estimator, "module_", estimator)
    if not isinstance(module, RamanCNN):
        if isinstance(module, nn.Module):
            raise RamancamError(
                f"estimator must be a fitted CNNClassifier or a RamanCNN; got "
                f"{type(module).__name__}.")
        raise RamancamError(
            f"estimator must be a fitted CNNClassifier or a RamanCNN; got "
            f"{type(estimator).__name__} (not fitted?). Call fit first.")
    return module


def save(path: str | os.PathLike[str], *, estimator: Any, recipe: Any, grid: ArrayLike,
         classes: Any = None, training_summary: dict[str, Any], cv: Any = None,
         settings: dict[str, Any] | None = None, command: str | None = None) -> Path:
    """Save a trained model as one file (atomically).

    Parameters
    ----------
    path : str or path-like
        Output file (suggested extension ``.ramancam``); replaced atomically if it exists.
    estimator : CNNClassifier or RamanCNN
        The fitted model.
    recipe : Recipe or None
        Preprocessing applied to raw spectra before the model (``None``: data must already
        be on ``grid``).
    grid : array-like of shape (n_points,)
        The axis the model's input lives on.
    classes : sequence of str, length n_classes, optional
        Class names in the order of the model's outputs. A fitted ``CNNClassifier`` knows
        them (``classes_``, the default); names given for one fitted on names must be those,
        in that order (for one fitted on numeric codes, the names of the codes in order).
    training_summary : dict
        Training-data summary (see :func:`training_summary`).
    cv : CVResult or dict, optional
        Cross-validation results (``CVResult.to_dict()`` is stored).
    settings : dict, optional
        Training settings; for a ``CNNClassifier`` its ``get_params()`` are stored too.
    command : str, optional
        The command line that trained it, shell-quoted (``ramancam train`` gives it), stored
        as ``command``. The time of saving is stored as ``created`` (UTC, ISO 8601).

    Returns
    -------
    Path
        The written file.
    """
    from safetensors.torch import save as st_save

    module = _module_of(estimator)
    from ._diverged import non_finite_weight

    if (bad := non_finite_weight(module)) is not None:  # load calls such a file damaged
        raise RamancamError(
            f"estimator weights must be finite; got NaN or inf in {bad!r} (its training "
            "diverged?). Fit it again with a lower learning rate.")
    config = module.config
    grid_a = np.asarray(grid, dtype=np.float64)
    if grid_a.ndim != 1 or grid_a.size != config.n_points:
        raise RamancamError(
            f"grid must have one value per model input point ({config.n_points}); got shape "
            f"{grid_a.shape}.")
    if not np.isfinite(grid_a).all() or (grid_a.size > 1 and not (np.diff(grid_a) > 0).all()):
        raise RamancamError(  # load refuses such a file as damaged
            "grid must be finite and increasing (the model's input points in ascending "
            "Raman shift; a model without a recipe still takes spectra on the grid reversed); "
            f"got {grid_a[0]:g} ... {grid_a[-1]:g}. Pass the ascending grid.")
    known = getattr(estimator, "classes_", None)
    if classes is None and known is None:
        raise RamancamError(
            "classes must be given for a bare network (the class names in the order of its "
            "outputs); a fitted CNNClassifier gives its own (classes_).")
    own = None if known is None else [str(c) for c in np.asarray(known).tolist()]
    class_list = own if classes is None else [str(c) for c in np.asarray(classes).tolist()]
    assert class_list is not None  # (classes or known given: checked above)
    named = known is not None and np.asarray(known).dtype.kind in "OUS"  # names, not codes
    if named and class_list != own:
        # the outputs are in the order of classes_ (sorted): other names, or the same in
        # another order, saved a model that named the wrong class for every spectrum (class
        # codes, y = 0, 1, ..., may be named here, in the order of the codes)
        raise RamancamError(
            f"classes must be the estimator's classes_ in their order, {own} (the order of "
            f"its outputs); got {class_list}. Leave classes out to save them.")
    if len(class_list) != config.n_classes:
        raise RamancamError(
            f"classes must name each of the model's {config.n_classes} outputs; got "
            f"{len(class_list)}.")
    all_settings: dict[str, Any] = {}
    if hasattr(estimator, "get_params") and hasattr(estimator, "module_"):
        all_settings.update(estimator.get_params())
        for k in ("n_epochs_", "best_epoch_", "fit_time_", "augment_choice_"):
            if hasattr(estimator, k):
                all_settings[k.rstrip("_")] = getattr(estimator, k)
    all_settings.update(settings or {})
    cv_dict = cv.to_dict() if hasattr(cv, "to_dict") else cv
    novelty_info, novelty_bytes, calibration_info = _novelty_state(estimator)
    references_bytes = _references_state(estimator, len(class_list), config.n_points)
    info = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "classes": class_list,
        "grid": grid_a.tolist(),
        "recipe": None if recipe is None else recipe.to_dict(),
        "architecture": config.to_dict(),
        "settings": all_settings,
        "versions": _versions(),
        # when and how (the zip members keep their fixed date: the same bytes every run)
        "created": utc_now(),
        **({} if command is None else {"command": command}),
        "training_data": training_summary,
        "cv": cv_dict,
    }
    if calibration_info is not None:
        info["calibration"] = calibration_info
    if novelty_info is not None:
        info["novelty"] = novelty_info
    if references_bytes is not None:
        info["references"] = {"arrays": REFERENCES_NAME, "stats": ["mean", "sd"],
                              "of": "each class's preprocessed training spectra"}
    text = json.dumps(_jsonable(info), allow_nan=False)
    state = {k: v.detach().to("cpu").contiguous()
             for k, v in _unique_state(module.state_dict()).items()}
    weights = st_save(state, metadata={"format": FORMAT})
    out = Path(path)
    members = ((JSON_NAME, text), (WEIGHTS_NAME, weights), (NOVELTY_NAME, novelty_bytes),
               (REFERENCES_NAME, references_bytes))
    with _atomic_binary(out) as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:  # dated 1980-01-01, not now: the same bytes every run
            if data is not None:
                zf.writestr(zipfile.ZipInfo(name), data, zipfile.ZIP_DEFLATED)
    return out


class Bundle(RangeChecks):
    """A loaded model: network, classes, grid and recipe, ready to predict raw spectra.

    Attributes
    ----------
    model : RamanCNN
        The network, in eval mode, on CPU.
    classes : list of str
        Class names in output order.
    recipe : Recipe or None
        Preprocessing to apply to raw spectra.
    grid : ndarray of shape (n_points,)
        The model's input axis.
    info : dict
        Everything stored in ``ramancam.json``.
    path : Path or None
        The file it was loaded from.
    novelty : NoveltyScorer or None
        The fitted novelty score (``None`` for models without one).
    threshold : float
        Novelty scores above it are ``unknown`` (``inf``: nothing flagged).
    temperature : float
        Softmax temperature of the calibrated probabilities (1.0: uncalibrated).
    references : dict or None
        ``mean`` and ``sd`` (n_classes x n_points) of each class's preprocessed training
        spectra; ``None`` for files saved without them (before 2026-12-04).
    held_out : ndarray of shape (n,) or None
        The held-out novelty scores of known spectra that set :attr:`threshold`, sorted
        (:meth:`novelty_p`); ``None`` for files saved without them (before 2026-12-05).
    class_scores : ndarray of shape (m,) or None
        The held-out spectra's class scores (:func:`ramancam.conformal.class_scores`),
        sorted, for :meth:`prediction_sets`; ``None`` for a model fitted without held-out
        class scores (no ``calibration_cv``, validation part or ``set_calibration``;
        ``ramancam train`` sets them from its cross validation) and for files saved before
        2026-12-05.
    """

    def __init__(self, model: Any, classes: list[str], recipe: Any, grid: NDArray[np.float64],
                 info: dict[str, Any], path: Path | None = None, *, novelty: Any = None,
                 threshold: float = float("inf"), temperature: float = 1.0,
                 references: dict[str, NDArray[np.float32]] | None = None,
                 held_out: NDArray[np.float64] | None = None,
                 class_scores: NDArray[np.float64] | None = None) -> None:
        self.model = model
        self.classes = classes
        self.recipe = recipe
        self.grid = grid
        self.info = info
        self.path = path
        self.novelty = novelty
        self.threshold = threshold
        self.temperature = temperature
        self.references = references
        self.held_out = held_out
        self.class_scores = class_scores

    def novelty_p(self, scores: NDArray[np.float64] | None) -> NDArray[np.float64] | None:
        """Conformal p-values of novelty scores (:func:`ramancam.conformal.p_values`) among
        the held-out known scores that set :attr:`threshold`; ``None`` for a model without
        novelty detection or saved without those scores (before 2026-12-05)."""
        from .conformal import p_values

        if scores is None or self.held_out is None:
            return None
        return p_values(scores, self.held_out)

    def prediction_sets(self, proba: NDArray[np.float64], rate: float | None = None
                        ) -> NDArray[np.bool_] | None:
        """Conformal prediction sets (:func:`ramancam.conformal.prediction_sets`) of
        calibrated probabilities, from the held-out class scores the file keeps.

        Parameters
        ----------
        proba : ndarray of shape (n_spectra, n_classes)
            :meth:`predict_proba` (or :meth:`predict_all`'s first output).
        rate : float, optional
            Allowed miss rate; default the model's novelty rate (0.05: 95 % sets).

        Returns
        -------
        ndarray of bool, shape (n_spectra, n_classes), or None
            ``None`` when the file keeps no held-out class scores (:attr:`class_scores`: a
            model fitted without ``calibration_cv``, a validation part or
            ``set_calibration``, or saved before 2026-12-05).
        """
        from .conformal import prediction_sets

        if self.class_scores is None:
            return None
        if rate is None:
            rate = float(self.info.get("novelty", {}).get("rate", 0.05))
        return prediction_sets(proba, self.class_scores, rate)

    def class_reference(self, name: str
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
        """Mean and standard deviation of one class's preprocessed training spectra.

        Parameters
        ----------
        name : str
            One of :attr:`classes`.

        Returns
        -------
        (mean, sd) : two ndarrays of shape (n_points,), or None
            ``None`` when the file holds no reference spectra (saved before 2026-12-04).

        Raises
        ------
        RamancamError
            If ``name`` is not a class of the model.
        """
        if name not in self.classes:
            raise RamancamError(f"class must be one of the model's classes "
                                f"({', '.join(self.classes)}); got {name!r}.")
        if self.references is None:
            return None
        i = self.classes.index(name)
        return (self.references["mean"][i].astype(np.float64),
                self.references["sd"][i].astype(np.float64))

    def library_match(self, spectra: Spectra | None, *,
                      prepared: NDArray[np.float64] | None = None
                      ) -> NDArray[np.str_] | None:
        """The class of each spectrum's most similar training spectrum by the hit quality
        index: what a vendor's library search over the training spectra would answer, a
        second opinion beside the network's class.

        Parameters
        ----------
        spectra : Spectra or None
            ``None`` when ``prepared`` is given.
        prepared : ndarray of shape (n_spectra, n_points), optional
            ``self.prepare(spectra)`` when the caller has it already.

        Returns
        -------
        ndarray of str, shape (n_spectra,), or None
            ``None`` for models without an ``hqi`` novelty score or saved before
            2026-12-04.
        """
        if self.novelty is None:
            return None
        X = self._prepared(spectra, prepared)
        idx = self.novelty.library_match(X)
        return None if idx is None else np.asarray(self.classes, dtype=str)[idx]

    def band_shift(self, spectra: Spectra | None, *,
                   prepared: NDArray[np.float64] | None = None,
                   proba: ArrayLike | None = None, match: ArrayLike | None = None
                   ) -> NDArray[np.float64] | None:
        """How far each spectrum's bands sit from the training spectra's, in cm-1 (positive:
        higher), what ``predict``'s ``axis:`` line summarises (:func:`ramancam.checks.shift_note`).

        Each spectrum is compared (:func:`ramancam.checks.band_shift`) with the mean training
        spectrum of the network's nearest class or, where it correlates better, of its
        library match's class (a shifted axis can mislead the network). ``nan`` where no
        shift can be read (another substance, a shift beyond 12 grid points).

        Parameters
        ----------
        spectra : Spectra or None
            ``None`` when ``prepared`` and ``proba`` are given (nothing else is read from it).
        prepared : ndarray of shape (n_spectra, n_points), optional
            ``self.prepare(spectra)`` when the caller has it already.
        proba, match : optional
            :meth:`predict_proba` and :meth:`library_match` of the same spectra, when the
            caller has them already.

        Returns
        -------
        ndarray of shape (n_spectra,), or None
            ``None`` when the file holds no reference spectra (saved before 2026-12-04) or
            the grid is too short (fewer than 33 points).
        """
        from .checks import MIN_SHIFT_GRID, band_shift

        if self.references is None or self.grid.size < MIN_SHIFT_GRID:
            return None
        X = self._prepared(spectra, prepared)
        if proba is None:
            proba = self.predict_proba(self._given(spectra))
        if match is None:
            match = self.library_match(spectra, prepared=X)
        means = self.references["mean"].astype(np.float64)
        step = float(np.median(np.diff(self.grid)))
        nearest = np.asarray(proba).argmax(axis=1)
        shift, corr = band_shift(X, means, step, with_correlation=True, index=nearest)
        if match is not None:
            where = {c: i for i, c in enumerate(self.classes)}
            named = np.asarray([where[str(c)] for c in np.asarray(match)], dtype=np.intp)
            differ = np.flatnonzero(named != nearest)  # elsewhere the same reference
            if differ.size:
                other, corr2 = band_shift(X[differ], means, step, with_correlation=True,
                                          index=named[differ])
                better = np.nan_to_num(corr2, nan=-1.0) > np.nan_to_num(corr[differ], nan=-1.0)
                shift[differ[better]] = other[better]
        return np.asarray(shift, dtype=np.float64)

    @staticmethod
    def _given(spectra: Spectra | None) -> Spectra:
        """``spectra``, refused when ``None``: a method was asked for what only the spectra
        give (their preprocessed form or probabilities were not passed)."""
        if spectra is None:
            raise RamancamError("spectra must be given unless what is computed from them is "
                                "(prepared, proba); got spectra=None. Pass the spectra.")
        return spectra

    def _prepared(self, spectra: Spectra | None, prepared: NDArray[np.float64] | None
                  ) -> NDArray[np.float64]:
        """``prepared`` when given, else ``self.prepare(spectra)``."""
        return self.prepare(self._given(spectra)) if prepared is None else prepared

    def __repr__(self) -> str:
        return (f"Bundle({len(self.classes)} classes, {self.grid.size} points "
                f"{self.grid[0]:g}-{self.grid[-1]:g}, recipe="
                f"{'none' if self.recipe is None else 'yes'})")

    def prepare(self, spectra: Spectra) -> NDArray[np.float64]:
        """Apply the stored recipe and check the result lies exactly on the model's grid.

        Parameters
        ----------
        spectra : Spectra
            Raw spectra (any axis covering the grid when the recipe resamples).

        Returns
        -------
        ndarray of shape (n_spectra, n_points)

        Raises
        ------
        RamancamError
            If the spectra do not cover the range the recipe resamples onto (the model's
            grid), or the preprocessed spectra are not on the model's grid.
        """
        need_spectra(spectra)
        if len(spectra) == 0:
            raise RamancamError("spectra must hold at least one spectrum; got none. There "
                                "is nothing to prepare, predict or explain.")
        self.check_coverage(spectra)
        spectra = self.anchored(spectra)
        out = spectra if self.recipe is None else self.recipe.apply(spectra)
        if not out.has_common_axis:
            gaps = self._gaps(out)
            raise RamancamError(
                "spectra must be on the model's grid; got per-spectrum axes"
                + (f": {gaps}" if gaps else "") + ". The model was saved without a resampling "
                "recipe; " + ("fill those cells or leave those spectra out" if gaps else
                              f"resample the spectra onto its grid ({self._grid_text()}) "
                              "first") + ".")
        flip = self.fits_grid(out.wavenumbers, offset="axis_offset_cm1" in spectra.meta)
        return np.asarray(out.X[:, ::-1] if flip else out.X, dtype=np.float64)

    def prepare_usable(self, spectra: Spectra
                       ) -> tuple[NDArray[np.float64], NDArray[np.bool_], list[str]]:
        """:meth:`prepare`, leaving out the spectra its recipe refuses one by one (a flat or
        empty spectrum, a dead pixel of a map) instead of stopping at the first.

        Returns
        -------
        X : ndarray of shape (n_usable, n_points)
            The usable spectra, preprocessed, in order.
        usable : ndarray of bool of shape (n_spectra,)
        reasons : list of str
            The recipe's message for each spectrum left out, in order.

        Raises
        ------
        RamancamError
            As :meth:`prepare` when the batch fails for a reason no single spectrum has
            (every spectrum refused is not an error here: ``usable`` is all False).
        """
        need_spectra(spectra)
        n = len(spectra)
        if self.recipe is None:  # no recipe refuses a flat spectrum (a dead pixel): here
            from .checks import flat_spectra

            X, usable = self.prepare(spectra), np.ones(n, dtype=bool)
            usable[flat_spectra(spectra, (float(self.grid[0]), float(self.grid[-1])))] = False
            return X[usable], usable, [
                f"spectrum {i} must vary over the model's grid; got one value or a straight "
                "line throughout (a dead pixel, an empty row)" for i in np.flatnonzero(~usable)]
        try:
            return self.prepare(spectra), np.ones(n, dtype=bool), []
        except RamancamError as err:
            parts, usable, reasons = self._prepare_blocks(spectra)
            if usable.all():
                raise err from None
            X = np.concatenate(parts) if parts else np.empty((0, self.grid.size))
            return X, usable, reasons

    def _prepare_blocks(self, spectra: Spectra, block: int = 64
                        ) -> tuple[list[NDArray[np.float64]], NDArray[np.bool_], list[str]]:
        """:meth:`prepare` on blocks of ``block`` spectra, one by one inside a refused block
        (a few refused spectra among a thousand cost about 0.4 s, not a call per spectrum):
        the prepared pieces in order, which spectra were usable, and each refusal's
        message."""
        from ._blocks import in_blocks

        usable = np.ones(len(spectra), dtype=bool)
        parts: list[NDArray[np.float64]] = []
        reasons: list[str] = []
        for rows, got in in_blocks(lambda r: self.prepare(spectra[r]), len(spectra), block):
            if isinstance(got, RamancamError):
                usable[rows] = False
                reasons.append(_refusal(got))
            else:
                parts.append(got)
        return parts, usable, reasons

    def predict_proba(self, spectra: Spectra, *, batch_size: int = 256, bf16: bool = False,
                      prepared: NDArray[np.float64] | None = None) -> NDArray[np.float64]:
        """Class probabilities of raw spectra, shape (n_spectra, n_classes), batched
        (``bf16``: see :func:`ramancam.train.predict_proba_module`; ``prepared``: as
        :meth:`predict_novelty`). A row is NaN where the network's float32 pass overflowed
        (see :func:`not_finite`)."""
        from .train import predict_proba_module

        X = self.prepare(spectra) if prepared is None else prepared
        return predict_proba_module(self.model, X, batch_size=batch_size,
                                    bf16=bf16, temperature=self.temperature)

    def predict_novelty(self, spectra: Spectra, *, bf16: bool = False,
                        prepared: NDArray[np.float64] | None = None
                        ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                                   NDArray[np.bool_] | None]:
        """Calibrated probabilities, novelty scores and unknown flags of raw spectra.

        Parameters
        ----------
        spectra : Spectra
        bf16 : bool
            Probabilities with bfloat16 convolutions (the novelty score stays float32); for
            the ``hqi`` scores, which read no network output, the bf16 pass is the only one.
        prepared : ndarray of shape (n_spectra, n_points), optional
            ``self.prepare(spectra)`` when the caller has it already (not repeated).

        Returns
        -------
        proba : ndarray of shape (n_spectra, n_classes)
        novelty : ndarray of shape (n_spectra,) or None
            ``None`` for a model without novelty detection.
        unknown : ndarray of shape (n_spectra,), bool, or None
            ``novelty > threshold``.
        """
        return self.predict_all(spectra, bf16=bf16, prepared=prepared)[:3]

    def predict_all(self, spectra: Spectra, *, bf16: bool = False,
                    prepared: NDArray[np.float64] | None = None
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64] | None,
                               NDArray[np.bool_] | None, NDArray[np.str_] | None]:
        """:meth:`predict_novelty` and :meth:`library_match` together, from one network pass
        and one comparison with the training spectra.

        Returns
        -------
        proba, novelty, unknown : as :meth:`predict_novelty`
        library_match : ndarray of str of shape (n_spectra,) or None
            As :meth:`library_match`.
        """
        from .novelty import network_outputs, softmax
        from .train import predict_proba_module

        X = self.prepare(spectra) if prepared is None else prepared
        if len(X) == 0:  # e.g. a chunk whose every spectrum the recipe refused
            has_match = self.novelty is not None and self.novelty.gives_match
            return (np.empty((0, len(self.classes))),
                    None if self.novelty is None else np.empty(0),
                    None if self.novelty is None else np.empty(0, dtype=bool),
                    np.empty(0, dtype=str) if has_match else None)
        if self.novelty is None:
            return predict_proba_module(self.model, X, bf16=bf16,
                                        temperature=self.temperature), None, None, None
        if bf16 and self.novelty.model_free:
            # the hqi scores read neither logits nor features: the bf16 pass is the only one
            # (a float32 pass for them made --bf16 cost 1.5x the network instead of 0.6x)
            proba = predict_proba_module(self.model, X, bf16=True, temperature=self.temperature)
            z = feats = np.zeros((len(X), 0))
        else:
            z, feats = network_outputs(self.model, X)
            proba = (predict_proba_module(self.model, X, bf16=True,
                                          temperature=self.temperature)
                     if bf16 else softmax(z, self.temperature, like_torch=True))
        score, idx = self.novelty.score_and_match(X, z, feats)
        match = None if idx is None else np.asarray(self.classes, dtype=str)[idx]
        return proba, score, np.asarray(score > self.threshold), match

    def predict(self, spectra: Spectra) -> NDArray[np.str_]:
        """Predicted class names, shape (n_spectra,).

        Raises
        ------
        RamancamError
            If the network gives a spectrum probabilities that are not finite (intensities
            too large for its float32 arithmetic).
        """
        X = self.prepare(spectra)
        proba = self.predict_proba(spectra, prepared=X)
        bad = not_finite(proba)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise RamancamError(overflow_reason(i, X[i]))
        return np.asarray(self.classes)[proba.argmax(axis=1)]


def not_finite(proba: ArrayLike) -> NDArray[np.bool_]:
    """Which rows of ``proba`` (shape (n_spectra, n_classes)) are not finite: the network's
    float32 pass overflowed (intensities near 1e38, or large enough for a layer to overflow,
    with no recipe that normalises them). Their argmax would read the first class."""
    a = np.asarray(proba)
    return ~np.isfinite(a).all(axis=1) if a.ndim == 2 else np.zeros(len(a), dtype=bool)


def overflow_reason(i: int | str, prepared: ArrayLike) -> str:
    """Why spectrum ``i`` (its row of the prepared input, ``prepared``) has no prediction,
    with the fix: one line, as a refusal of the recipe reads."""
    top = float(np.max(np.abs(prepared))) if np.size(prepared) else float("nan")
    return (f"spectrum {i} must give finite probabilities; its prepared intensities reach "
            f"{top:.3g}, too large for the network's float32 arithmetic. Divide the "
            "intensities by their maximum, or train with a recipe that normalises them "
            "(--recipe paper).")


def drop_not_finite(X: NDArray[Any], usable: NDArray[np.bool_], outs: tuple[Any, ...],
                    ids: Sequence[str], overflowed: list[tuple[str, str]]
                    ) -> tuple[NDArray[Any], NDArray[np.bool_], tuple[Any, ...]]:
    """Leave out of a chunk's outputs (``outs``, those of its usable spectra, the
    probabilities first) the spectra whose probabilities are not finite, as a spectrum the
    recipe refuses is: the argmax of their NaN row read the first class (``predict``,
    ``explain``). ``X``: the usable spectra prepared; ``usable``: which of the chunk's
    spectra (ids ``ids``) they are. Each left out is appended to ``overflowed`` as ``(id,
    why)``; returns ``X``, ``usable`` and ``outs`` without them."""
    bad = not_finite(outs[0])
    if not bad.any():
        return X, usable, outs
    rows = np.flatnonzero(usable)
    for j in np.flatnonzero(bad).tolist():
        overflowed.append((ids[rows[j]], overflow_reason(ids[rows[j]], X[j])))
    usable = usable.copy()
    usable[rows[bad]] = False
    return X[~bad], usable, tuple(None if a is None else np.asarray(a)[~bad] for a in outs)


def _unique_state(state: dict[str, Any]) -> dict[str, Any]:
    """The state dict without aliases.

    ``RamanCNN`` registers ``fc1``/``fc2`` both directly and inside ``classifier``, so its
    state dict names the same tensors twice; safetensors refuses shared tensors, and storing
    them once halves the file. Loading fills the aliases back in from the same module.
    """
    seen: set[tuple[int, int]] = set()
    out = {}
    for k, v in state.items():
        key = (v.untyped_storage().data_ptr(), v.storage_offset())
        if key in seen:
            continue
        seen.add(key)
        out[k] = v
    return out


def load(path: str | os.PathLike[str]) -> Bundle:
    """Load a model written by :func:`save`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Bundle

    Raises
    ------
    RamancamError
        If the file is missing, is not a ramancam model (not a zip, no ``ramancam.json``,
        wrong format marker, a pickle), comes from a newer format version, or holds weights
        that do not match the recorded architecture.
    """
    import torch
    from safetensors.torch import load as st_load

    from .model import RamanCNN

    p = Path(path)
    m = read_members(p)
    state = _read_safetensors(st_load, m.weights, p, "weights")
    fill = check_weights(p, state, m.shapes, m.info["format_version"])  # before allocating
    try:
        # The random initialisation, replaced by the saved weights below, draws from torch's
        # generator: forked, so that the caller's seeded stream is left as it was.
        with torch.random.fork_rng(devices=[]):
            model = RamanCNN(m.config)
    except (RuntimeError, MemoryError) as exc:
        if out_of_memory(exc):  # no fault of the file: said as a memory failure
            raise
        raise RamancamError(f"{p}: the recorded architecture must build a network; got "
                            f"{exc}. The file is damaged or was altered.") from None
    expected = _unique_state(model.state_dict())
    state = {**state, **{k: expected[k].clone() for k in fill}}
    # The aliases share their tensors with the keys loaded here, so they are filled too.
    result = model.load_state_dict(state, strict=False)
    if result.unexpected_keys or set(result.missing_keys) & set(expected):
        raise RamancamError(f"{p}: weights must match the architecture; got "
                            f"{result}. The file is damaged or was altered.")
    model.eval()
    return Bundle(model, m.classes, m.recipe, m.grid, m.info, p,
                  **load_arrays(p, m.info, m.config, m.novelty, m.references))


def load_info(path: str | os.PathLike[str]) -> Bundle:
    """A model file's settings and arrays, checked as :func:`load` checks them (the weights
    too: names, shapes, finite), without building the network: no torch is imported, so
    it takes a fraction of ``load``'s time (what ``ramancam info MODEL`` prints).

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    Bundle
        With ``model`` ``None`` (nothing that runs the network works); ``classes``,
        ``grid``, ``recipe``, ``info``, ``references``, ``held_out``, ``class_scores``,
        ``threshold``, ``temperature`` and ``novelty`` (its settings and arrays) as
        :func:`load` gives them.

    Raises
    ------
    RamancamError
        As :func:`load`.
    """
    from safetensors.numpy import load as np_load

    p = Path(path)
    m = read_members(p)
    state = _read_safetensors(np_load, m.weights, p, "weights")
    check_weights(p, state, m.shapes, m.info["format_version"])
    return Bundle(None, m.classes, m.recipe, m.grid, m.info, p,
                  **load_arrays(p, m.info, m.config, m.novelty, m.references))


def _refusal(exc: Exception) -> str:
    """Why the model's recipe refuses a spectrum, with a fix a predicting user can make:
    the recipe's own fix (another baseline or normalisation) is the training's to choose."""
    text = str(exc)
    what = text.split(": use ")[0]
    if what == text or "positive maximum" not in what:
        return text
    return (f"{what}: the model's recipe (the paper's straight baseline) cannot use it; a "
            "model trained with the asls or arpls recipe can")
