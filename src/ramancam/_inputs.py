"""What every estimator checks of the spectra it is given, in the package's words: finite
values, the axis a :class:`~ramancam.spectra.Spectra` carries against the axis of ``fit``,
and the number of points (with its fix); and ``score`` that takes a ``Spectra``'s labels as
``fit`` does."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeGuard, TypeVar

import numpy as np
from numpy.typing import NDArray

from .errors import RamancamError, RamancamWarning
from .spectra import Spectra, check_axis, labels_for_fit

__all__ = ["SpectraScore", "check_axis_of", "check_finite", "fit_axis", "predict_data"]

T = TypeVar("T")

#: Axis values closer than this (cm-1) are the same point.
AXIS_TOL = 1e-6


def check_finite(X: Any) -> None:
    """Refuse NaN or infinite values, naming the first spectrum that holds one (scikit-learn's
    message names no spectrum and recommends imputers); other input is left to the
    estimator's own validation."""
    arr = np.asarray(X.X if isinstance(X, Spectra) else X)
    if arr.dtype.kind in "iub":  # integers cannot be NaN
        return
    if arr.dtype.kind not in "fc":  # lists, objects; text is the estimator's to refuse
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            return
    if arr.ndim != 2 or all(np.isfinite(arr[r:r + 8192]).all()  # in blocks: a large map
                            for r in range(0, arr.shape[0], 8192)):
        return
    bad = ~np.isfinite(arr)
    rows = np.flatnonzero(bad.any(axis=1))
    i = int(rows[0])
    j = int(np.flatnonzero(bad[i])[0])
    what = "NaN" if np.isnan(arr[i, j]) else "inf"
    name = (f"spectrum {X.ids[i]}" if isinstance(X, Spectra) else f"row {i}")
    more = f" (and {rows.size - 1} more spectra)" if rows.size > 1 else ""
    raise RamancamError(
        f"X must hold finite intensities; got {what} in {name} at point {j}{more}. Leave "
        "those spectra out, or fill the gaps (e.g. interpolate) first.")


def finite_number(v: object) -> TypeGuard[float | np.number[Any]]:
    """A finite real number: an int or float (numpy's too), not a bool, not NaN or inf
    (what model-file settings and simulation parameters must be)."""
    return (isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)
            and bool(np.isfinite(v)))


def fit_axis(X: Any) -> NDArray[np.float64] | None:
    """The axis of a :class:`Spectra` on one common axis (what ``fit`` records as
    ``wavenumbers_in_``); ``None`` for arrays."""
    if isinstance(X, Spectra) and X.has_common_axis:
        return np.asarray(X.wavenumbers, dtype=np.float64).copy()
    return None


def header_axis(X: Any) -> NDArray[np.float64] | None:
    """The axis a pandas DataFrame's column names give when they are Raman shifts (numbers,
    or text that reads as numbers, monotonic), as ``pd.read_csv`` of a wide table gives
    them; ``None`` otherwise, and for names that are the points' positions 0 to p-1 (either
    order: pandas' default labels of ``pd.DataFrame(X)``, which are no cm-1). Only an axis
    to transform on: headers written with few digits are not checked against another axis."""
    cols = getattr(X, "columns", None)
    if cols is None or not hasattr(X, "iloc"):
        return None
    try:  # numbers, finite, two or more, no repeats, monotonic: an axis
        axis = check_axis(np.asarray(cols), name="column names")
    except (RamancamError, TypeError, ValueError):
        return None
    return None if positions(axis) else axis


def positions(axis: NDArray[np.float64]) -> bool:
    """Whether ``axis`` is the points' positions 0, 1, ..., p-1 (or p-1, ..., 0)."""
    index = np.arange(axis.size, dtype=np.float64)
    return bool(np.array_equal(axis, index) or np.array_equal(axis, index[::-1]))


def check_axis_of(axis: NDArray[np.float64] | None, fitted: NDArray[np.float64] | None,
                  who: str) -> None:
    """Refuse spectra on ``axis`` (:func:`fit_axis` of what was given; ``None``: an array,
    nothing to check) when it differs from ``fitted`` (the axis of ``fit``) with as many
    points: their intensities would be read as if measured there. ``who`` names that axis
    ("the axis PCASVM was fitted on")."""
    if axis is None or fitted is None or axis.size != np.size(fitted):
        return
    if np.allclose(axis, fitted, rtol=0.0, atol=AXIS_TOL):
        return
    fix = ("the same axis in the other order: reverse the spectra's points and their axis "
           "(Spectra(s.X[:, ::-1], s.wavenumbers[::-1], ...))"
           if np.allclose(axis[::-1], fitted, rtol=0.0, atol=AXIS_TOL) else
           "another axis. Resample the spectra onto that axis first")
    raise RamancamError(
        f"X's axis ({axis[0]:g}-{axis[-1]:g} cm-1) must be {who} ({fitted[0]:g}-"
        f"{fitted[-1]:g} cm-1, {fitted.size} points); got the same number "
        f"of points on {fix}.")


def predict_data(est: Any, X: Any, validate: Callable[[], T]) -> T:
    """``validate()`` (scikit-learn's ``validate_data(..., reset=False)``) after the checks
    of :func:`check_finite` and :func:`check_axis_of`, with a wrong number of points worded
    with its fix (scikit-learn's words first, which its estimator checks look for)."""
    check_finite(X)
    shape = getattr(X, "shape", None)
    if shape is not None and len(shape) == 1:  # scikit-learn printed every intensity
        raise RamancamError(
            f"X must be 2-D of shape (n_spectra, n_points); got one spectrum of shape "
            f"{tuple(shape)}. Reshape your data: X[None, :] (or X.reshape(1, -1)).")
    check_axis_of(fit_axis(X), getattr(est, "wavenumbers_in_", None),
                  f"the axis {type(est).__name__} was fitted on")
    try:
        return validate()
    except RamancamError:
        raise
    except ValueError as err:
        text = str(err)
        if "features, but" not in text:
            raise
        raise RamancamError(
            f"{text.rstrip('.')} (the points of the axis in fit). Resample the spectra "
            "onto that axis first.") from None


class SpectraScore:
    """``score(X, y=None)``: with ``y`` left out, a :class:`Spectra`'s labels, as ``fit``
    takes them (so ``cross_val_score(est, data)`` and ``GridSearchCV(...).fit(data)``
    score against the labels instead of returning NaN)."""

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean accuracy on ``X`` against ``y`` (default: the labels of a ``Spectra``)."""
        from sklearn.metrics import accuracy_score

        labels = labels_for_fit(X, y)
        if y is None:
            unseen = sorted(set(np.asarray(labels).tolist())
                            - set(np.asarray(self.classes_).tolist()))  # type: ignore[attr-defined]
            if unseen:  # e.g. cross_val_score(est, data): unstratified folds without y
                warnings.warn(
                    f"X holds {len(unseen)} class(es) {type(self).__name__} was not fitted "
                    f"on ({', '.join(map(str, unseen[:3]))}); without y, scikit-learn's "
                    "cross validation splits X in order, unstratified: pass y=data.labels "
                    "too (cross_val_score(est, data, data.labels)).", RamancamWarning,
                    stacklevel=2)
        pred = self.predict(X)  # type: ignore[attr-defined]
        return float(accuracy_score(labels, pred, sample_weight=sample_weight))
