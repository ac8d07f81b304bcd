"""The optional arrays of a model file (:mod:`ramancam.bundle`): the novelty score's and the
class reference spectra, written from a fitted estimator and read back with every shape,
value and name checked (a damaged or altered file is one clear error, never a crash).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._inputs import finite_number
from .errors import RamancamError

FORMAT = "ramancam-model"
NOVELTY_NAME = "novelty.safetensors"
REFERENCES_NAME = "references.safetensors"
#: The novelty array of the held-out known scores that set the threshold (``novelty_p``).
HELD_OUT = "held_out"
#: The reference array of the held-out class scores (``Bundle.prediction_sets``).
CLASS_SCORES = "class_scores"


def _refuse(path: Path, why: str) -> RamancamError:
    return RamancamError(f"{path} must be a ramancam model file; got {why}. Use a file "
                         "written by 'ramancam train' or ramancam.bundle.save.")


def _references_state(estimator: Any, n_classes: int, n_points: int) -> bytes | None:
    """The class mean and sd spectra of a fitted ``CNNClassifier`` as safetensors bytes;
    ``None`` for a bare network or one fitted before they were kept."""
    from safetensors.numpy import save as np_save

    means = getattr(estimator, "class_means_", None)
    sds = getattr(estimator, "class_sds_", None)
    if means is None or sds is None:
        return None
    arrays: dict[str, NDArray[Any]] = {"mean": np.ascontiguousarray(means, dtype=np.float32),
                                       "sd": np.ascontiguousarray(sds, dtype=np.float32)}
    if any(a.shape != (n_classes, n_points) for a in arrays.values()):
        raise RamancamError(
            f"class reference spectra must have shape ({n_classes}, {n_points}); got "
            f"{arrays['mean'].shape} and {arrays['sd'].shape}.")
    labels = getattr(getattr(estimator, "novelty_scorer_", None), "labels_", None)
    if labels is not None:
        arrays["match_labels"] = np.asarray(labels, dtype=np.float32).reshape(-1, 1)
    scores = getattr(estimator, "class_scores_", None)
    if scores is not None and np.size(scores):  # held-out, for prediction sets
        arrays[CLASS_SCORES] = _sorted_column(scores)
    return np_save(arrays, metadata={"format": FORMAT})


def _sorted_column(values: Any) -> NDArray[np.float64]:
    """Held-out scores as one sorted float64 column (float64: ties at a threshold stay
    ties after the round trip)."""
    return np.ascontiguousarray(np.sort(np.asarray(values, dtype=np.float64).ravel())
                                ).reshape(-1, 1)


def _novelty_state(estimator: Any) -> tuple[dict[str, Any] | None, bytes | None,
                                            dict[str, Any] | None]:
    """JSON entries ``novelty`` and ``calibration`` and the novelty arrays (safetensors
    bytes) of a fitted ``CNNClassifier``; ``None`` for what it does not have."""
    from safetensors.numpy import save as np_save

    cal = getattr(estimator, "calibration_", None)
    calibration: dict[str, Any] | None = None
    if hasattr(estimator, "temperature_"):
        calibration = {"temperature": float(estimator.temperature_),
                       **({} if cal is None else cal.to_dict())}
    scorer = getattr(estimator, "novelty_scorer_", None)
    if scorer is None:
        return None, None, calibration
    d, arrays = scorer.to_state()
    held = getattr(estimator, "novelty_held_out_", None)
    kept = {}
    if held is not None and np.size(held):  # for novelty_p
        arrays = {**arrays, HELD_OUT: _sorted_column(held)}
        kept = {"held_out": int(np.size(held))}
    info = {**d, "threshold": float(getattr(estimator, "novelty_threshold_", float("inf"))),
            "rate": float(getattr(estimator, "novelty_rate", 0.05)), "arrays": NOVELTY_NAME,
            **kept}
    return info, np_save(arrays, metadata={"format": FORMAT}), calibration


def _read_safetensors(loader: Any, raw: bytes, p: Path, what: str) -> Any:
    """``loader(raw)`` (safetensors' torch or numpy ``load``); damage is one clear error."""
    from safetensors import SafetensorError

    try:
        return loader(raw)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise RamancamError(
            f"{p}: {what} must be a readable safetensors file; got an error ({exc}). "
            "The file is damaged or was altered.") from None
    except KeyError as exc:  # safetensors.numpy: a dtype numpy lacks (BF16, F8_E4M3)
        dtype = exc.args[0] if exc.args else "?"
        raise RamancamError(
            f"{p}: {what} must hold arrays of a dtype numpy reads (F16, F32, F64, an "
            f"integer or BOOL); got dtype {dtype!r}. The file is damaged or was "
            "altered.") from None


def _load_novelty(p: Path, info: dict[str, Any], raw: bytes | None, config: Any
                  ) -> dict[str, Any]:
    """``novelty``, ``threshold``, ``held_out`` and ``temperature`` keyword arguments of
    :class:`Bundle`."""
    from safetensors.numpy import load as np_load

    from .novelty import HQI_WINDOW, NoveltyScorer

    out: dict[str, Any] = {}
    cal = info.get("calibration")
    if isinstance(cal, dict):
        t = cal.get("temperature", 1.0)
        if not finite_number(t) or t <= 0:
            raise RamancamError(f"{p}: calibration temperature must be a positive number; "
                                f"got {t!r}. The file is damaged or was altered.")
        out["temperature"] = float(t)
    nov = info.get("novelty")
    if nov is None:
        return out
    if not isinstance(nov, dict) or raw is None:
        raise _refuse(p, f"novelty settings without {NOVELTY_NAME}")
    thr = nov.get("threshold")
    if thr is not None and not finite_number(thr):
        raise RamancamError(f"{p}: novelty threshold must be a finite number; got {thr!r}. "
                            "The file is damaged or was altered.")
    arrays = _read_safetensors(np_load, raw, p, NOVELTY_NAME)
    if not all(np.isfinite(a).all() for a in arrays.values()):
        raise RamancamError(f"{p}: novelty arrays must be finite; got NaN or inf. The file "
                            "is damaged.")
    held = arrays.pop(HELD_OUT, None)
    if held is not None:
        if held.ndim != 2 or held.shape[1] != 1:
            raise RamancamError(f"{p}: novelty array {HELD_OUT!r} must have 1 column; got "
                                f"shape {held.shape}. The file is damaged or was altered.")
        if nov.get("held_out", held.shape[0]) != held.shape[0]:
            raise RamancamError(f"{p}: novelty array {HELD_OUT!r} must have the "
                                f"{nov.get('held_out')} rows the settings name; got "
                                f"{held.shape[0]}. The file is damaged or was altered.")
        out["held_out"] = np.sort(held.astype(np.float64).ravel())
    width = {"features": config.fc_width, "derivatives": config.n_points,
             "means": config.fc_width, "precision": config.fc_width}
    for k, a in arrays.items():
        if a.ndim != 2 or a.shape[1] != width.get(k, a.shape[-1]):
            raise RamancamError(f"{p}: novelty array {k!r} must have {width.get(k)} columns; "
                                f"got shape {a.shape}. The file is damaged or was altered.")
    out["novelty"] = scorer = NoveltyScorer.from_state(nov, arrays)
    # a window wider than the grid shrinks to it (short grids keep the default 25), but one
    # beyond both is no setting train writes
    if scorer.model_free and scorer.window > max(config.n_points, HQI_WINDOW):
        raise RamancamError(f"{p}: novelty window must fit the model's {config.n_points} grid "
                            f"points; got {scorer.window}. The file is damaged or was "
                            "altered.")
    out["threshold"] = float("inf") if thr is None else float(thr)
    return out


def _load_references(p: Path, info: dict[str, Any], raw: bytes | None, config: Any
                     ) -> dict[str, NDArray[Any]] | None:
    """The class reference spectra (``Bundle.references``), checked; ``None`` without."""
    from safetensors.numpy import load as np_load

    if info.get("references") is None:
        return None
    if raw is None:
        raise _refuse(p, f"reference settings without {REFERENCES_NAME}")
    arrays = _read_safetensors(np_load, raw, p, REFERENCES_NAME)
    shape = (config.n_classes, config.n_points)
    for k in ("mean", "sd"):
        a = arrays.get(k)
        if a is None or a.shape != shape or not np.isfinite(a).all():
            got = "no such array" if a is None else f"shape {a.shape}" + (
                "" if a.shape != shape or np.isfinite(a).all() else " with NaN or inf")
            raise RamancamError(
                f"{p}: reference array {k!r} must be finite with shape {shape}; got {got}. "
                "The file is damaged or was altered.")
    out = {"mean": arrays["mean"].astype(np.float32), "sd": arrays["sd"].astype(np.float32)}
    m = arrays.get("match_labels")
    if m is not None:
        if (m.ndim != 2 or m.shape[1] != 1 or not np.isfinite(m).all()
                or (m != np.round(m)).any() or (m < 0).any() or (m >= config.n_classes).any()):
            raise RamancamError(
                f"{p}: reference array 'match_labels' must hold class indices 0-"
                f"{config.n_classes - 1} in one column; got shape {m.shape}. The file is "
                "damaged or was altered.")
        out["match_labels"] = m.astype(np.float32)
    c = arrays.get(CLASS_SCORES)
    if c is not None:
        if c.ndim != 2 or c.shape[1] != 1 or not np.isfinite(c).all() or (c < 0).any() \
                or (c > 1 + 1e-6).any():
            raise RamancamError(
                f"{p}: reference array {CLASS_SCORES!r} must hold probabilities 0-1 in one "
                f"column; got shape {c.shape}. The file is damaged or was altered.")
        out[CLASS_SCORES] = np.sort(c.astype(np.float64).ravel())
    return out

